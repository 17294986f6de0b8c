"""Read-only views across the registry and the upstream watch (cards, the App Home)."""
