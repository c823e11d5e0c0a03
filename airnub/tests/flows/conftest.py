"""Flow tests run in the test process against the session's project server (`prefect_api`, airnub.testing)."""

from airnub.testing.flows import clean_variables, on_the_session_server, webhook  # noqa: F401
