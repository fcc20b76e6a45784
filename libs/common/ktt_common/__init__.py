"""Shared foundation of the KTT services. Nothing domain-specific lives here."""
