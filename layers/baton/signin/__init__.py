"""Vendor sign-in, by job: grants (`grants`), the backend in use (`backend`), the stack's user pool as a
backend (`cognito`, an HTTPS client), the pool's pre-token-generation trigger (`trigger`) and the
client registrations it reads (`registrations`). The routes are `baton_functions.signin`; each
vendor's own part of them is in its package under `baton.vendors`."""
