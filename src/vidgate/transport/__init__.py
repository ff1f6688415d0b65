"""Runners that drive sans-I/O provider flows over httpx (sync and async), and the retry policy."""

from vidgate.transport.async_runner import AsyncByteStream, AsyncRunner
from vidgate.transport.retry import RetryPolicy, parse_retry_after
from vidgate.transport.sync_runner import ByteStream, SyncRunner

__all__ = ["AsyncByteStream", "AsyncRunner", "ByteStream", "RetryPolicy", "SyncRunner", "parse_retry_after"]
