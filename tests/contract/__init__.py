"""The sandbox driven by the vendors' official clients (openai, gql, facebook-business), nobody's code here.

Each client is used as a new user would use it against the live service, with only its host changed to the
sandbox's, doing the operations the pipelines do and the failures the live services produce. A drift of the
sandbox from what the real SDKs send or expect breaks these tests.
"""
