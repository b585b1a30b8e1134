"""LM doubles: scripted, function-computed and schema-generated language models."""
