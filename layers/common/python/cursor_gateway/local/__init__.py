"""The local stack behind `make run`: embedded moto, tables from template.yaml, state kept in DATA_DIR."""
