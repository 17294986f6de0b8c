"""Cross-domain orchestration: the steps that touch several domains, in one place."""
