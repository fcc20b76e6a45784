-- One database per service, owned by POSTGRES_USER (ktt), which runs this script.
-- The postgres image runs it once, when its data volume is empty.
CREATE DATABASE ktt_decision;
CREATE DATABASE ktt_voucher;
CREATE DATABASE ktt_provider_registry;
CREATE DATABASE ktt_attendance;
CREATE DATABASE ktt_billing;
