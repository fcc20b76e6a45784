"""The console (issue 14): server-rendered pages for Typake officials and providers on top of the
five services' REST APIs, called with the user's own token so every access rule of the services
holds in the page as well. It has no database and reads no service's database."""
