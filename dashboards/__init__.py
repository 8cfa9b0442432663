"""The analysts' dashboard: a Streamlit app over the finsent PostgreSQL database.

Run it with `finsent dashboard` (see docs/dashboard.md). `app.py` is the entry
file; `app_pages/` holds one file per page; `queries.py` the cached reads,
`actions.py` the few writes analysts make (silences, acknowledgements, labels).
"""
