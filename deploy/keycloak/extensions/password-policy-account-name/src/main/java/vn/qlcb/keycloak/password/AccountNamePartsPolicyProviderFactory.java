package vn.qlcb.keycloak.password;

import org.keycloak.Config;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.policy.PasswordPolicyProvider;
import org.keycloak.policy.PasswordPolicyProviderFactory;

/** The password policy {@code notContainsUsernamePart(n)}: see {@link AccountNamePartsPolicyProvider}. */
public class AccountNamePartsPolicyProviderFactory implements PasswordPolicyProviderFactory {

    public static final String ID = "notContainsUsernamePart";
    static final int SHORTEST = 3;

    @Override
    public String getId() {
        return ID;
    }

    @Override
    public PasswordPolicyProvider create(KeycloakSession session) {
        return new AccountNamePartsPolicyProvider(session.getContext());
    }

    @Override
    public void init(Config.Scope config) {}

    @Override
    public void postInit(KeycloakSessionFactory factory) {}

    @Override
    public String getDisplayName() {
        return "Not containing a part of the username";
    }

    @Override
    public String getConfigType() {
        return PasswordPolicyProvider.INT_CONFIG_TYPE;
    }

    @Override
    public String getDefaultConfigValue() {
        return String.valueOf(SHORTEST);
    }

    @Override
    public boolean isMultiplSupported() {
        return false;
    }

    @Override
    public void close() {}
}
