"""The ledger protocol of each workflow: what is claimed in the store database, what is asked of the remote
service, how a crash is resolved. Assets call these in a few lines and only shape the results into metadata.
"""
