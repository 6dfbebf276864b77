"""The planning service: FastAPI app, run storage (SQLAlchemy) and execution (Dask)."""
