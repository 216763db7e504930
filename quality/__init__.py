"""Quality inspection of every finished contact (issue 20): rules (rules.yml), checks, emotion model, inspector."""
