package vn.qlcb.keycloak;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * How many refusals of one account are stored per window: a script hammering the admin API with
 * a valid token must not flood the realm's event store (nor the audit copy that follows it).
 *
 * <p>Within a window the first {@link #LIMIT} refusals of an account are stored; the rest are
 * counted, and the first refusal stored in a later window carries that count as "suppressed".
 * Per Keycloak node: a cluster of n nodes stores at most n times as many.
 */
final class RefusalBudget {

    static final int LIMIT = intFromEnv("QLCB_REFUSAL_AUDIT_LIMIT", 20);
    static final long WINDOW_MILLIS = 1000L * intFromEnv("QLCB_REFUSAL_AUDIT_WINDOW_SECONDS", 60);
    private static final int MAX_ACCOUNTS = 10_000;

    private static final ConcurrentMap<String, Window> WINDOWS = new ConcurrentHashMap<>();

    private RefusalBudget() {}

    /** What to do with one refusal: -1 to drop it, else the number suppressed since the last one stored. */
    static long admit(String account, long now) {
        if (WINDOWS.size() > MAX_ACCOUNTS) {
            WINDOWS.values().removeIf(w -> now - w.start >= WINDOW_MILLIS && w.suppressed == 0);
        }
        Window window = WINDOWS.computeIfAbsent(account, k -> new Window(now));
        synchronized (window) {
            if (now - window.start >= WINDOW_MILLIS) {
                window.start = now;
                window.stored = 0;
            }
            if (window.stored >= LIMIT) {
                window.suppressed++;
                return -1;
            }
            window.stored++;
            long suppressed = window.suppressed;
            window.suppressed = 0;
            return suppressed;
        }
    }

    private static int intFromEnv(String name, int fallback) {
        String value = System.getenv(name);
        try {
            return value == null ? fallback : Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static final class Window {
        long start;
        int stored;
        long suppressed;

        Window(long start) {
            this.start = start;
        }
    }
}
