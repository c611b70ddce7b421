"""The embedded dispatch API: a simulator serving the contract in resources/openapi over real HTTP."""
