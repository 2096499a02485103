// The page's configuration, rendered by the server as a JSON block (maps/page.py).
export const config = JSON.parse(document.getElementById('wangge-config').textContent);
