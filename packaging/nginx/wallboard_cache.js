// njs helpers for wallboard-cache.conf (nginx 1.22 has no variable for a cached response's age, and no arithmetic).
//
// freshAt  (inner "stamp" server): when the CAD's answer was fresh, in milliseconds on this machine's clock: now,
//          less any Age a cache further up already gave it. Sent as X-Wallboard-Fresh-At and stored in the cache
//          with the response.
// age      (outer cache server): the standard Age header, whole seconds since X-Wallboard-Fresh-At. Both ends are
//          this machine's clock, so the CAD's and the boards' clocks do not enter into it.
// tokenKey the cache key's token part: SHA-256 of the Authorization header, so that the cache files on disk never
//          hold a token in clear (nginx writes the key into every cache file).

function freshAt(r) {
    var upstreamAge = 0;
    var header = r.variables.upstream_http_age;
    if (header && /^\s*\d{1,9}\s*$/.test(header)) {
        upstreamAge = parseInt(header.trim(), 10);
    }
    return String(Date.now() - upstreamAge * 1000);
}

function age(r) {
    var at = r.headersOut['X-Wallboard-Fresh-At'];
    if (!at || !/^\d{1,16}$/.test(at)) {
        return '';
    }
    var seconds = Math.floor((Date.now() - Number(at)) / 1000);
    return String(seconds > 0 ? seconds : 0);
}

function tokenKey(r) {
    var auth = r.headersIn['Authorization'] || '';
    return require('crypto').createHash('sha256').update(auth).digest('hex');
}

export default { freshAt, age, tokenKey };
