"""ssl-core: semi-supervised and contrastive learning pipelines for science (README.md)."""
