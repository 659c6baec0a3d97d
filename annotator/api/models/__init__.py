"""The pydantic models of the REST API's requests and answers, one module per subject."""
