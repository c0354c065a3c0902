"""FastAPI routers, one module per route group (each group can be its own Lambda function)."""
