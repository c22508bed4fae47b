"""Fetch, start and stop the real infrastructure (PostgreSQL, NATS, Keycloak) as local processes."""
