"""Host-only development tools, not part of the package: the central-system simulator (tests, bench,
`make run`) and the `make run` launcher. They need what a router lacks (websockets, asyncio)."""
