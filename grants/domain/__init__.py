"""Pure computation: no Flask, no SQLAlchemy. Plain values in, plain values out."""
