"""ossgate: short-lived, narrowly scoped upload tickets for direct uploads to Alibaba Cloud OSS."""

__version__ = "0.1.0"
