"""Serving: the FastAPI app and the batch scoring job, both on the registered model."""
