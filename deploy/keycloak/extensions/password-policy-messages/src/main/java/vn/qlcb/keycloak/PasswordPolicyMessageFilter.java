package vn.qlcb.keycloak;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.ext.Provider;
import java.text.MessageFormat;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;
import org.keycloak.jose.jws.JWSInput;
import org.keycloak.jose.jws.JWSInputException;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.representations.AccessToken;
import org.keycloak.representations.idm.OAuth2ErrorRepresentation;
import org.keycloak.utils.KeycloakSessionUtil;

/**
 * Puts the realm's own text of a broken password rule into the admin REST API's error.
 *
 * <p>When a password set through the admin API breaks the realm's password policy, Keycloak answers
 * 400 with the rule's message key as the error ({@code invalidPasswordRegexPatternMessage}, say) and
 * that message of its admin theme as the description, in the admin token's locale or else English.
 * Unlike its login pages, it never looks at the realm's localization texts there. This filter
 * replaces the description with the realm's text for the key, in the token's locale if the realm has
 * texts for it, else in the realm's default locale, formatted with the policy's value as Keycloak
 * formats its own message; without a realm text the answer is left as it is.
 *
 * <p>The token's claims are read without checking its signature: Keycloak authenticated the request
 * before refusing the password, and the locale only chooses which of the realm's texts is shown.
 */
@Provider
public class PasswordPolicyMessageFilter implements ContainerResponseFilter {

    static final String KEY_PREFIX = "invalidPassword";
    private static final Logger LOG = Logger.getLogger(PasswordPolicyMessageFilter.class);
    private static final Pattern ADMIN_REALM_PATH = Pattern.compile("^/?admin/realms/([^/]+)/.+$");
    // The messages that take the value of their policy as {0}, by the id of that policy.
    private static final Map<String, String> POLICY_OF_MESSAGE = Map.of(
            "invalidPasswordMinLengthMessage", "length",
            "invalidPasswordMaxLengthMessage", "maxLength",
            "invalidPasswordMinDigitsMessage", "digits",
            "invalidPasswordMinLowerCaseCharsMessage", "lowerCase",
            "invalidPasswordMinUpperCaseCharsMessage", "upperCase",
            "invalidPasswordMinSpecialCharsMessage", "specialChars",
            "invalidPasswordHistoryMessage", "passwordHistory",
            "invalidPasswordRegexPatternMessage", "regexPattern");

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
        if (response.getStatus() != 400
                || !(response.getEntity() instanceof OAuth2ErrorRepresentation error)
                || error.getError() == null
                || !error.getError().startsWith(KEY_PREFIX)) {
            return;
        }
        Matcher path = ADMIN_REALM_PATH.matcher(request.getUriInfo().getPath());
        KeycloakSession session = KeycloakSessionUtil.getKeycloakSession();
        if (!path.matches() || session == null) {
            return;
        }
        try {
            RealmModel realm = session.realms().getRealmByName(path.group(1));
            if (realm == null) {
                return;
            }
            String key = error.getError();
            for (String locale : new String[] {tokenLocale(request), realm.getDefaultLocale()}) {
                String text = locale == null ? null : realm.getRealmLocalizationTextsByLocale(locale).get(key);
                if (text != null) {
                    response.setEntity(new OAuth2ErrorRepresentation(key, format(realm, key, text, locale)));
                    return;
                }
            }
        } catch (RuntimeException e) {
            LOG.warnf(e, "could not put the realm's text of %s into the admin API's answer", error.getError());
        }
    }

    static String format(RealmModel realm, String key, String text, String locale) {
        String policy = POLICY_OF_MESSAGE.get(key);
        Object value = policy == null ? null : realm.getPasswordPolicy().getPolicyConfig(policy);
        Object[] parameters = value == null ? new Object[0] : new Object[] {value};
        return new MessageFormat(text, Locale.forLanguageTag(locale)).format(parameters);
    }

    private static String tokenLocale(ContainerRequestContext request) {
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        try {
            return new JWSInput(header.substring(7).trim()).readJsonContent(AccessToken.class).getLocale();
        } catch (JWSInputException e) {
            return null;
        }
    }
}
