"""Getting things to Slack: the Web API client, replies to a person, streamed answers, request
cards and alerts through the outbox, and the worker pool and context the listeners hand them to.

Below the listeners and the app: nothing here imports either.
"""
