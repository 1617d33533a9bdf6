"""How tools reach the network: every URL through the SSRF guard.

- :mod:`.url_guard` — which URLs and addresses a tool may reach;
- :mod:`.guarded_http` — one request (and its redirects) to checked addresses only.
"""
