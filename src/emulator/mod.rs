//! A Zadig look-alike that reproduces the real server's quirks (build-api.md §9).
