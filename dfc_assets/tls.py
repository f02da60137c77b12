"""One TLS context for every HTTP client of a process.

Making a context reads the CA bundle (some 40 ms each time), and the publishing steps make clients per version
(web-seed checks) and per step (the publisher's): a ranged run of 17 versions spent 8% of its time there.
A context is safe to share between clients and threads.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's CA bundle, or SSL_CERT_FILE / SSL_CERT_DIR when set), made once."""
    return httpx.create_ssl_context()
