"""HTTP surface: FastAPI routers, auth dependencies, SSE encoders, the single error renderer."""
