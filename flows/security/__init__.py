"""Who may see the dashboard and what they did there: sign-in settings, the rule that nothing is
served beyond this machine without sign-in and Streamlit's [auth] secrets (`signin.py`), and the
hash-chained access log an auditor can verify (`access_log.py`)."""
