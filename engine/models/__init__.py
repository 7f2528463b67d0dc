"""Model families, their descriptions and the tiny offline test models."""
