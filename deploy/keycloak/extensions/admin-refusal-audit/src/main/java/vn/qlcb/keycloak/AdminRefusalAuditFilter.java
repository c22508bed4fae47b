package vn.qlcb.keycloak;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.ext.Provider;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;
import org.keycloak.common.util.Time;
import org.keycloak.events.EventStoreProvider;
import org.keycloak.events.admin.AdminEvent;
import org.keycloak.events.admin.AuthDetails;
import org.keycloak.events.admin.OperationType;
import org.keycloak.jose.jws.JWSInput;
import org.keycloak.jose.jws.JWSInputException;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.representations.AccessToken;
import org.keycloak.services.managers.AppAuthManager;
import org.keycloak.services.managers.AuthenticationManager.AuthResult;
import org.keycloak.utils.KeycloakSessionUtil;

/**
 * Stores every admin REST request that Keycloak refuses with 403 as an admin event whose error is
 * "forbidden".
 *
 * <p>Keycloak emits admin events only for operations that succeed, so a delegated admin calling
 * the admin API beyond its rights would otherwise leave no trace. The event goes to the realm's
 * event store, where identity ingests admin events into its audit log (R-TIER-3, R-AUD-1).
 *
 * <p>The request's own transaction is marked for rollback once the refusal is raised, so the event
 * is written in a transaction of its own. The caller is authenticated again from the bearer token,
 * exactly as the admin API did before refusing: a 403 is only reached with a valid token. An
 * account's refusals are stored up to a budget per window ({@link RefusalBudget}); the next one
 * stored says how many were left out.
 */
@Provider
public class AdminRefusalAuditFilter implements ContainerResponseFilter {

    static final String ERROR = "forbidden";
    private static final Logger LOG = Logger.getLogger(AdminRefusalAuditFilter.class);
    private static final Pattern ADMIN_REALM_PATH = Pattern.compile("^/?admin/realms/([^/]+)/?(.*)$");

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
        if (response.getStatus() != 403) {
            return;
        }
        Matcher path = ADMIN_REALM_PATH.matcher(request.getUriInfo().getPath());
        KeycloakSession session = KeycloakSessionUtil.getKeycloakSession();
        if (!path.matches() || session == null) {
            return;
        }
        try {
            record(session, request.getMethod(), path.group(1), path.group(2));
        } catch (RuntimeException | JWSInputException e) {
            LOG.warnf(e, "could not record a refused admin request to %s", request.getUriInfo().getPath());
        }
    }

    private static void record(KeycloakSession session, String method, String realmName, String resourcePath)
            throws JWSInputException {
        RealmModel target = session.realms().getRealmByName(realmName);
        AuthResult caller = authenticate(session);
        if (target == null || caller == null || !target.isAdminEventsEnabled()) {
            return;
        }
        long now = Time.currentTimeMillis();
        long suppressed = RefusalBudget.admit(caller.user().getId(), now);
        if (suppressed < 0) {
            return;
        }
        AuthDetails auth = new AuthDetails();
        auth.setRealmId(caller.client().getRealm().getId());
        auth.setRealmName(caller.client().getRealm().getName());
        auth.setClientId(caller.client().getId());
        auth.setUserId(caller.user().getId());
        auth.setIpAddress(session.getContext().getConnection().getRemoteAddr());

        AdminEvent event = new AdminEvent();
        event.setId(KeycloakModelUtils.generateId());
        event.setTime(now);
        event.setRealmId(target.getId());
        event.setRealmName(target.getName());
        event.setAuthDetails(auth);
        event.setOperationType(operationOf(method));
        event.setResourceTypeAsString(resourceTypeOf(resourcePath));
        event.setResourcePath(resourcePath);
        event.setError(ERROR);
        event.setDetails(suppressed > 0
                ? Map.of("method", method, "username", caller.user().getUsername(), "suppressed", Long.toString(suppressed))
                : Map.of("method", method, "username", caller.user().getUsername()));
        KeycloakModelUtils.runJobInTransaction(
                session.getKeycloakSessionFactory(),
                store -> store.getProvider(EventStoreProvider.class).onEvent(event, false));
    }

    private static AuthResult authenticate(KeycloakSession session) throws JWSInputException {
        HttpHeaders headers = session.getContext().getHttpRequest().getHttpHeaders();
        String token = AppAuthManager.extractAuthorizationHeaderToken(headers);
        if (token == null) {
            return null;
        }
        String issuer = new JWSInput(token).readJsonContent(AccessToken.class).getIssuer();
        if (issuer == null) {
            return null;
        }
        RealmModel realm = session.realms().getRealmByName(issuer.substring(issuer.lastIndexOf('/') + 1));
        if (realm == null) {
            return null;
        }
        return new AppAuthManager.BearerTokenAuthenticator(session)
                .setRealm(realm)
                .setConnection(session.getContext().getConnection())
                .setHeaders(headers)
                .authenticate();
    }

    static OperationType operationOf(String method) {
        return switch (method) {
            case "POST" -> OperationType.CREATE;
            case "PUT" -> OperationType.UPDATE;
            case "DELETE" -> OperationType.DELETE;
            default -> OperationType.ACTION;
        };
    }

    static String resourceTypeOf(String resourcePath) {
        String[] segments = resourcePath.split("/");
        if (resourcePath.contains("/role-mappings/clients/")) {
            return "CLIENT_ROLE_MAPPING";
        }
        if (resourcePath.contains("/role-mappings")) {
            return "REALM_ROLE_MAPPING";
        }
        if (segments.length > 2 && segments[0].equals("users") && segments[2].equals("groups")) {
            return "GROUP_MEMBERSHIP";
        }
        return switch (segments[0]) {
            case "users" -> "USER";
            case "groups" -> "GROUP";
            case "clients" -> "CLIENT";
            case "roles", "roles-by-id" -> "REALM_ROLE";
            case "identity-provider" -> "IDENTITY_PROVIDER";
            default -> "REALM";
        };
    }
}
