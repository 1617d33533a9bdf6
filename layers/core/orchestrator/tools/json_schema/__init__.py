"""JSON Schema for tool arguments, by ``jsonschema`` (imported on first use).

- :mod:`.parameters` — is a tool's ``parameters`` a schema we can apply (checked at registration);
- :mod:`.arguments` — validate each call's arguments against it;
- :mod:`.wording` — the problems, in words, with the path each is about.
"""
