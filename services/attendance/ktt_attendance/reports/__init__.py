"""Reports and evaluations (REP-1..REP-6, ATT-11, VOU-7, VOU-8)."""
