package vn.qlcb.keycloak.password;

import java.text.Normalizer;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.keycloak.models.KeycloakContext;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.policy.PasswordPolicyProvider;
import org.keycloak.policy.PolicyError;

/**
 * "Mật khẩu không được trùng với một phần tên của tài khoản" (002 Điều 6.5, R-ACC-7): a password
 * must not contain any part of the account's name. The parts are the username's pieces between
 * dots, dashes, underscores and other separators, and the letters alone of each piece
 * ({@code nhansu1.hanoi}: nhansu1, nhansu, hanoi), each at least as long as the policy's value (3
 * by default, so that a two-letter piece does not forbid half the dictionary). Keycloak's own
 * {@code notContainsUsername} refuses only the whole username.
 *
 * <p>The password is compared without case and without Vietnamese marks: "NoiBai2026!" and
 * "nộibài@2026" are both refused for {@code canbo.noibai}.
 */
public class AccountNamePartsPolicyProvider implements PasswordPolicyProvider {

    static final String ERROR_MESSAGE = "invalidPasswordNotContainsUsernamePartMessage";
    private static final Pattern SEPARATORS = Pattern.compile("[^\\p{L}\\p{N}]+");
    private static final Pattern LETTERS = Pattern.compile("\\p{L}+");
    private static final Pattern MARKS = Pattern.compile("\\p{M}+");

    private final KeycloakContext context;

    public AccountNamePartsPolicyProvider(KeycloakContext context) {
        this.context = context;
    }

    static String folded(String text) {
        String lower = text.toLowerCase(Locale.ROOT).replace('đ', 'd');
        return MARKS.matcher(Normalizer.normalize(lower, Normalizer.Form.NFD)).replaceAll("");
    }

    static Set<String> parts(String username, int shortest) {
        Set<String> found = new LinkedHashSet<>();
        for (String piece : SEPARATORS.split(folded(username))) {
            if (piece.length() >= shortest) {
                found.add(piece);
            }
            Matcher letters = LETTERS.matcher(piece);
            while (letters.find()) {
                if (letters.group().length() >= shortest) {
                    found.add(letters.group());
                }
            }
        }
        return found;
    }

    static PolicyError check(String username, String password, int shortest) {
        if (username == null || password == null) {
            return null;
        }
        String typed = folded(password);
        for (String part : parts(username, shortest)) {
            if (typed.contains(part)) {
                return new PolicyError(ERROR_MESSAGE);
            }
        }
        return null;
    }

    @Override
    public PolicyError validate(RealmModel realm, UserModel user, String password) {
        Integer shortest = realm.getPasswordPolicy().getPolicyConfig(AccountNamePartsPolicyProviderFactory.ID);
        return check(user.getUsername(), password, shortest == null ? AccountNamePartsPolicyProviderFactory.SHORTEST : shortest);
    }

    @Override
    public PolicyError validate(String user, String password) {
        RealmModel realm = context.getRealm();
        Integer shortest = realm == null ? null : realm.getPasswordPolicy().getPolicyConfig(AccountNamePartsPolicyProviderFactory.ID);
        return check(user, password, shortest == null ? AccountNamePartsPolicyProviderFactory.SHORTEST : shortest);
    }

    @Override
    public Object parseConfig(String value) {
        return parseInteger(value, AccountNamePartsPolicyProviderFactory.SHORTEST);
    }

    @Override
    public void close() {}
}
