package vn.qlcb.keycloak.backup;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;
import org.keycloak.Config;
import org.keycloak.common.Version;
import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.credential.CredentialModel;
import org.keycloak.exportimport.ExportOptions;
import org.keycloak.exportimport.Strategy;
import org.keycloak.exportimport.util.ExportUtils;
import org.keycloak.exportimport.util.ImportUtils;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RoleModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.credential.PasswordCredentialModel;
import org.keycloak.models.utils.ModelToRepresentation;
import org.keycloak.models.utils.RepresentationToModel;
import org.keycloak.representations.idm.CredentialRepresentation;
import org.keycloak.representations.idm.RealmRepresentation;
import org.keycloak.representations.idm.UserRepresentation;
import org.keycloak.services.managers.AppAuthManager;
import org.keycloak.services.managers.AuthenticationManager.AuthResult;
import org.keycloak.services.managers.RealmManager;
import org.keycloak.util.JsonSerialization;

/**
 * The realm's backup and restore through Keycloak's own export and import code (what {@code kc.sh
 * export} and {@code kc.sh import} run), for the backup service only.
 *
 * <p>Only the service account of the realm's client {@value #CLIENT} holding that client's role
 * {@value #ROLE} may call it. It reads the realm it is called in, and the realms it imported itself
 * for that realm (marked with the realm attribute {@value #SOURCE}); it never touches the admin
 * realm nor any other. An import is always a new realm under the name the caller gives, with new
 * internal ids, so that it can sit beside the live realm in the same server.
 *
 * <p>Nothing here logs a representation: an export holds password hashes and client secrets.
 */
public class RealmBackupResource {

    static final String CLIENT = "qlcb-backup";
    static final String ROLE = "realm-backup";
    static final String SOURCE = "qlcb.backup.source";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,62}");
    private static final Logger LOG = Logger.getLogger(RealmBackupResource.class);

    private final KeycloakSession session;

    RealmBackupResource(KeycloakSession session) {
        this.session = session;
    }

    @GET
    @Path("version")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, String> version() {
        authorize();
        return Map.of("keycloak", Version.VERSION);
    }

    /** The whole realm as {@code kc.sh export} writes it: users with their credentials, groups, roles, clients. */
    @GET
    @Path("realms/{name}")
    @Produces(MediaType.APPLICATION_JSON)
    public Response export(@PathParam("name") String name) throws IOException {
        RealmModel caller = authorize();
        RealmModel realm = reachable(caller, name, true);
        ExportOptions options = new ExportOptions();
        options.setUsersIncluded(true);
        options.setClientsIncluded(true);
        options.setGroupsAndRolesIncluded(true);
        options.setOnlyServiceAccountsIncluded(false);
        byte[] body = within(realm, () -> {
            try {
                return JsonSerialization.writeValueAsBytes(ExportUtils.exportRealm(session, realm, options, true));
            } catch (IOException e) {
                throw new IllegalStateException("the export could not be written", e);
            }
        });
        LOG.infof("realm %s exported for %s's backup", name, caller.getName());
        return Response.ok(body, MediaType.APPLICATION_JSON_TYPE).build();
    }

    /** Imports an export as the new realm {@code name}, as {@code kc.sh import} does; 409 if it exists. */
    @PUT
    @Path("realms/{name}")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response restore(@PathParam("name") String name, InputStream body) throws IOException {
        RealmModel caller = authorize();
        requireName(name);
        if (session.realms().getRealmByName(name) != null) {
            throw refusal(Response.Status.CONFLICT, "realm " + name + " exists");
        }
        JsonNode tree = JsonSerialization.mapper.readTree(body);
        if (tree == null || !tree.isObject()) {
            throw refusal(Response.Status.BAD_REQUEST, "the body is not a realm representation");
        }
        InternalIds.drop(tree);
        RealmRepresentation rep = JsonSerialization.mapper.treeToValue(tree, RealmRepresentation.class);
        rep.setRealm(name);
        boolean imported = within(caller, () -> ImportUtils.importRealm(session, rep, Strategy.IGNORE_EXISTING, false));
        if (!imported) {
            throw refusal(Response.Status.CONFLICT, "realm " + name + " exists");
        }
        RealmModel restored = session.realms().getRealmByName(name);
        within(restored, () -> restorePasswordHistory(restored, rep));
        restored.setAttribute(SOURCE, caller.getName());
        LOG.infof("realm %s imported from a backup of %s", name, caller.getName());
        return Response.status(Response.Status.CREATED).build();
    }

    /**
     * Removes a realm this resource imported; never the live one. The removal runs with that realm as
     * the session's: Keycloak removes a realm's identity providers and their mappers from the
     * session's realm, so run from the caller's it would take the live realm's federation with it
     * (and fail on the copy's own).
     */
    @DELETE
    @Path("realms/{name}")
    public Response remove(@PathParam("name") String name) {
        RealmModel caller = authorize();
        RealmModel realm = reachable(caller, name, false);
        within(realm, () -> new RealmManager(session).removeRealm(realm));
        LOG.infof("realm %s, imported for %s, removed", name, caller.getName());
        return Response.noContent().build();
    }

    /**
     * Makes the imported realm {@code restored} the live one: the live realm is renamed {@code keep_as}
     * (kept, never removed, and still reachable here to switch back), then {@code restored} takes the
     * live name. Both renames go through the realm representation, as the admin console's rename does,
     * in this request's one transaction.
     */
    @POST
    @Path("switch")
    public Response switchTo(@QueryParam("restored") String restoredName, @QueryParam("keep_as") String keepAs) {
        RealmModel live = authorize();
        requireName(keepAs);
        RealmModel restored = reachable(live, restoredName, false);
        if (session.realms().getRealmByName(keepAs) != null) {
            throw refusal(Response.Status.CONFLICT, "realm " + keepAs + " exists");
        }
        String liveName = live.getName();
        rename(live, keepAs);
        // The realm's name is unique: the first rename must reach the database before the second.
        session.getProvider(JpaConnectionProvider.class).getEntityManager().flush();
        rename(restored, liveName);
        live.setAttribute(SOURCE, liveName);
        LOG.infof("realm %s switched in as %s; the former realm is kept as %s", restoredName, liveName, keepAs);
        return Response.noContent().build();
    }

    /**
     * Keycloak's import skips the {@code password-history} credentials an export holds, so a restored
     * account could take again a password the realm's policy refuses as recent; they are stored here
     * as exported (the hashes of earlier passwords), with the account's other credentials.
     */
    private Void restorePasswordHistory(RealmModel realm, RealmRepresentation rep) {
        for (UserRepresentation exported : rep.getUsers() == null ? List.<UserRepresentation>of() : rep.getUsers()) {
            List<CredentialRepresentation> history = exported.getCredentials() == null
                    ? List.of()
                    : exported.getCredentials().stream()
                            .filter(c -> PasswordCredentialModel.PASSWORD_HISTORY.equals(c.getType()))
                            .toList();
            UserModel user = history.isEmpty() ? null : session.users().getUserByUsername(realm, exported.getUsername());
            if (user == null) {
                continue;
            }
            for (CredentialRepresentation credential : history) {
                CredentialModel model = new CredentialModel();
                model.setType(credential.getType());
                model.setUserLabel(credential.getUserLabel());
                model.setCreatedDate(credential.getCreatedDate());
                model.setSecretData(credential.getSecretData());
                model.setCredentialData(credential.getCredentialData());
                user.credentialManager().createStoredCredential(model);
            }
        }
        return null;
    }

    private void rename(RealmModel realm, String name) {
        within(realm, () -> {
            RealmRepresentation rep = ModelToRepresentation.toRepresentation(session, realm, true);
            rep.setRealm(name);
            RepresentationToModel.updateRealm(rep, realm, session);
            return null;
        });
    }

    /** The realm {@code name}: the caller's own (if {@code ownAllowed}) or one imported here for it. */
    private RealmModel reachable(RealmModel caller, String name, boolean ownAllowed) {
        requireName(name);
        RealmModel realm = session.realms().getRealmByName(name);
        boolean own = realm != null && realm.getId().equals(caller.getId());
        if (realm == null || (own ? !ownAllowed : !caller.getName().equals(realm.getAttribute(SOURCE)))) {
            // A realm out of reach is not told apart from one that does not exist.
            throw refusal(Response.Status.NOT_FOUND, "no realm " + name + " imported for " + caller.getName());
        }
        return realm;
    }

    private static void requireName(String name) {
        if (name == null || !NAME.matcher(name).matches() || name.equals(Config.getAdminRealm())) {
            throw refusal(Response.Status.BAD_REQUEST, "not an allowed realm name");
        }
    }

    /** The caller's realm, once the bearer token is valid and is the backup account's (401, 403). */
    private RealmModel authorize() {
        RealmModel realm = session.getContext().getRealm();
        AuthResult auth = new AppAuthManager.BearerTokenAuthenticator(session)
                .setRealm(realm)
                .setConnection(session.getContext().getConnection())
                .setHeaders(session.getContext().getRequestHeaders())
                .authenticate();
        if (auth == null) {
            throw refusal(Response.Status.UNAUTHORIZED, "a valid bearer token of this realm is required");
        }
        ClientModel client = realm.getClientByClientId(CLIENT);
        RoleModel role = client == null ? null : client.getRole(ROLE);
        UserModel user = auth.user();
        if (realm.getName().equals(Config.getAdminRealm())
                || role == null
                || !client.getId().equals(user.getServiceAccountClientLink())
                || !user.hasRole(role)) {
            throw refusal(Response.Status.FORBIDDEN, "only the service account of " + CLIENT + " with its role " + ROLE);
        }
        return realm;
    }

    /** Runs {@code work} with {@code realm} as the session's realm (exports and imports read it). */
    private <T> T within(RealmModel realm, Supplier<T> work) {
        RealmModel previous = session.getContext().getRealm();
        session.getContext().setRealm(realm);
        try {
            return work.get();
        } finally {
            session.getContext().setRealm(previous);
        }
    }

    private static WebApplicationException refusal(Response.Status status, String reason) {
        return new WebApplicationException(Response.status(status)
                .entity(Map.of("error", reason))
                .type(MediaType.APPLICATION_JSON_TYPE)
                .build());
    }
}
