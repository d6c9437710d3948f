"""Reports and dashboards (SPEC section 10): set-based reads of the other apps, scoped by the one visibility
function; nothing imports this app but the URLs and the API shell."""
