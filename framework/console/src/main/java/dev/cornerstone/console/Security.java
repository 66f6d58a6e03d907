package dev.cornerstone.console;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

import io.vertx.core.Vertx;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.Session;
import io.vertx.ext.web.handler.SessionHandler;
import io.vertx.ext.web.sstore.LocalSessionStore;

/**
 * Who may use the console, and how a change is proven to come from its own page.
 *
 * <ul>
 * <li>Signing in: the node's token (user {@code token}), or a user and password from
 *     {@link Users}. A session then lives in a cookie that is HttpOnly and SameSite=Strict (and
 *     Secure when configured); its id is replaced at sign-in.</li>
 * <li>Every request but the sign-in page and its two API calls ({@code GET /api/session},
 *     {@code POST /api/login}) needs a signed-in session, or {@code Authorization: Bearer
 *     TOKEN} for scripts. A page request without one is sent to the sign-in page; an API request
 *     gets 401.</li>
 * <li>CSRF: a session carries a random token, handed to the page by {@code GET /api/session}
 *     and at sign-in; every request that changes something (POST, PUT, PATCH, DELETE) on a
 *     session, sign-in included, must send it back in the {@value #CSRF_HEADER} header, or it
 *     is refused with 403. Another site cannot read the token, and the SameSite cookie is not
 *     sent from it in the first place. Requests with a bearer token carry no cookie, so they
 *     need no CSRF token.</li>
 * <li>Failed sign-ins are answered after a pause; ten from one address within a minute lock
 *     that address out for the rest of the minute.</li>
 * </ul>
 */
final class Security {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.console");

    static final String TOKEN_USER = "token";
    static final String CSRF_HEADER = "X-CSRF-Token";
    static final String COOKIE = "cornerstone.console";
    static final String LOGIN_PAGE = "/public/login.html";
    static final long FAILED_LOGIN_PAUSE_MILLIS = 400;
    static final int MAX_FAILED_LOGINS_PER_MINUTE = 10;

    /** Sent with every response; the page loads scripts and styles only from this origin. */
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private final Vertx vertx;
    private final ConsoleSettings settings;
    private final Users users;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, long[]> failedLogins = new ConcurrentHashMap<>();
    private volatile String token;
    private volatile String tokenStamp = "";

    Security(Vertx vertx, ConsoleSettings settings) {
        this.vertx = vertx;
        this.settings = settings;
        this.users = new Users(settings.usersFile());
    }

    SessionHandler sessionHandler() {
        return SessionHandler.create(LocalSessionStore.create(vertx, "cornerstone.console.sessions", 60_000))
                .setSessionCookieName(COOKIE)
                .setCookieHttpOnlyFlag(true)
                .setCookieSameSite(CookieSameSite.STRICT)
                .setCookieSecureFlag(settings.cookieSecure())
                .setSessionTimeout(settings.sessionTimeoutMinutes() * 60_000L)
                .setNagHttps(false)
                .setLazySession(true);
    }

    /** Security headers on every response. */
    void headers(RoutingContext rc) {
        rc.response().putHeader("X-Content-Type-Options", "nosniff")
                .putHeader("X-Frame-Options", "DENY")
                .putHeader("Referrer-Policy", "no-referrer")
                .putHeader("Content-Security-Policy", CSP);
        rc.next();
    }

    /** The node's token, read again when its file changes. */
    private String token() {
        Path f = settings.tokenFile();
        try {
            String stamp = Files.size(f) + "@" + Files.getLastModifiedTime(f).toMillis();
            if (!stamp.equals(tokenStamp)) {
                String t = Files.readString(f, StandardCharsets.US_ASCII).trim();
                token = t.isEmpty() ? null : t;
                tokenStamp = stamp;
            }
            return token;
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            LOG.warning("Cannot read the token file " + f + ": " + e.getMessage());
            return null;
        }
    }

    private boolean tokenMatches(String given) {
        String t = token();
        return t != null && given != null && MessageDigest.isEqual(t.getBytes(StandardCharsets.UTF_8),
                given.getBytes(StandardCharsets.UTF_8));
    }

    private String newSecret() {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static boolean changes(HttpMethod m) {
        return !(m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.OPTIONS);
    }

    private static boolean csrfOk(RoutingContext rc, Session s) {
        String expected = s == null ? null : s.get("csrf");
        String given = rc.request().getHeader(CSRF_HEADER);
        return expected != null && given != null && MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8),
                given.getBytes(StandardCharsets.UTF_8));
    }

    /** {@code GET /api/session}: whether this browser is signed in, and its CSRF token. */
    void session(RoutingContext rc) {
        Session s = rc.session();
        s.computeIfAbsent("csrf", k -> newSecret());
        String csrf = s.get("csrf");
        JsonObject body = new JsonObject().put("authenticated", s.get("user") != null).put("user", s.get("user"))
                .put("csrf", csrf);
        Http.json(rc, 200, body.getMap());
    }

    /** {@code POST /api/login}: {@code {token}} or {@code {user, password}}. */
    void login(RoutingContext rc) {
        Session s = rc.session();
        if (!csrfOk(rc, s)) {
            throw new ApiError(403, "the sign-in request has no valid CSRF token: load the sign-in page again");
        }
        String remote = rc.request().remoteAddress() == null ? "?" : rc.request().remoteAddress().hostAddress();
        long now = System.currentTimeMillis();
        long[] fails = failedLogins.compute(remote, (k, v) -> v == null || now - v[0] > 60_000 ? new long[]{now, 0} : v);
        if (fails[1] >= MAX_FAILED_LOGINS_PER_MINUTE) {
            throw new ApiError(429, "too many failed sign-ins from " + remote + ": wait a minute and try again");
        }
        JsonObject body = Http.jsonBody(rc);
        String tokenGiven = body.getValue("token") instanceof String t ? t.trim() : null;
        String user = body.getValue("user") instanceof String u ? u.trim() : null;
        String password = body.getValue("password") instanceof String p ? p : null;
        if ((tokenGiven == null || tokenGiven.isEmpty()) && (user == null || user.isEmpty() || password == null)) {
            throw new ApiError(400, "send {\"token\": ...} or {\"user\": ..., \"password\": ...}");
        }
        vertx.executeBlocking(() -> {
            if (tokenGiven != null && !tokenGiven.isEmpty()) {
                return tokenMatches(tokenGiven) ? TOKEN_USER : null;
            }
            return users.check(user, password.toCharArray()) ? user : null;
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                rc.fail(ar.cause());
                return;
            }
            String who = ar.result();
            if (who == null) {
                synchronized (fails) {
                    fails[1]++;
                }
                LOG.warning("Failed console sign-in from " + remote + (user != null ? " as '" + user + "'" : " with a "
                        + "token"));
                vertx.setTimer(FAILED_LOGIN_PAUSE_MILLIS, t -> Http.error(rc, 401, tokenGiven != null
                        ? "wrong token: use the one in the node's " + settings.home().relativize(settings.tokenFile())
                        : "wrong user name or password", null));
                return;
            }
            s.regenerateId();
            s.put("user", who);
            String csrf = newSecret();
            s.put("csrf", csrf);
            LOG.info("Console sign-in from " + remote + " as '" + who + "'");
            Http.json(rc, 200, new JsonObject().put("user", who).put("csrf", csrf).getMap());
        });
    }

    /** {@code POST /api/logout}. */
    void logout(RoutingContext rc) {
        Session s = rc.session();
        if (s != null) {
            s.destroy();
        }
        Http.json(rc, 200, Map.of("signed_out", true));
    }

    /**
     * The gate in front of everything but the sign-in page: a bearer token or a signed-in
     * session, and for a change on a session the CSRF token.
     */
    void authenticate(RoutingContext rc) {
        String auth = rc.request().getHeader("Authorization");
        boolean api = rc.normalizedPath().startsWith("/api/");
        if (auth != null) {
            if (auth.startsWith("Bearer ") && tokenMatches(auth.substring(7).trim())) {
                rc.put("user", TOKEN_USER);
                rc.next();
                return;
            }
            rc.response().putHeader("WWW-Authenticate", "Bearer realm=\"cornerstone\"");
            throw new ApiError(401, "the bearer token is wrong: use the one in the node's "
                    + settings.home().relativize(settings.tokenFile()));
        }
        // No session cookie, no session: a stranger's request does not make one in the store.
        Session s = rc.request().getCookie(COOKIE) == null ? null : rc.session();
        String user = s == null ? null : s.get("user");
        if (user == null) {
            if (!api && (rc.request().method() == HttpMethod.GET || rc.request().method() == HttpMethod.HEAD)) {
                rc.redirect(LOGIN_PAGE);
                return;
            }
            throw new ApiError(401, "sign in first (or send 'Authorization: Bearer TOKEN')");
        }
        if (changes(rc.request().method()) && !csrfOk(rc, s)) {
            throw new ApiError(403, "this change has no valid CSRF token (header " + CSRF_HEADER + "): reload the page "
                    + "and try again");
        }
        rc.put("user", user);
        rc.next();
    }
}
