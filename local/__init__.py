"""Local stand-ins for the cloud: a strict OSS (`python -m local.oss`) and an FC HTTP trigger (`python -m local.fc`)."""
