"""Storage: SQLAlchemy tables, Alembic migrations and every SQL statement of the product."""
