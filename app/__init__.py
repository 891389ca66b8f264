"""Grove's core: configuration, accounts, spaces, permissions and the storage tree."""
