"""Users and their roles (admin, investigator)."""
