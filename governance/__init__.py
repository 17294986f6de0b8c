"""modelgov's domain: registry, upstream watch, licenses, alerts, assistant. No Slack imports."""
