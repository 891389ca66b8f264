"""Federation with other instances over OpenCloudMesh (a later issue)."""
