// Where the API runs: scheme, host and port. Use the same host name as the page
// (127.0.0.1 for both, or localhost for both): the page must read the API's CSRF cookie,
// and browsers share cookies between the ports of one host name only.
window.SPA_CONFIG = { apiBase: "http://127.0.0.1:8000" };
