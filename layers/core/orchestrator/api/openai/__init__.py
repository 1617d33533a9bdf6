"""The OpenAI wire format: which models a caller may name, how ``messages`` become a turn, and how a
finished turn is written back as a ``chat.completion`` (or its ``chat.completion.chunk`` stream)."""
