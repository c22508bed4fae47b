package vn.qlcb.keycloak.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Drops every internal id from a realm export, so that Keycloak generates new ones when it imports
 * the export as another realm of the same server: the live realm holds the exported ids, and the
 * database keys them server-wide. Everything in an export refers to other entries by name (roles,
 * clients, groups by path, flows by alias), never by these ids.
 */
final class InternalIds {

    /** Realm, roles, clients, scopes, groups, users, credentials, flows, mappers, components, policies. */
    private static final Set<String> ID_FIELDS = Set.of("id", "_id", "internalId", "containerId", "parentId");

    /** Maps of free-form strings (attributes, configuration): their keys are data, not fields. */
    private static final Set<String> FREE_FORM = Set.of("attributes", "config");

    private InternalIds() {}

    static void drop(JsonNode node) {
        if (node.isArray()) {
            node.forEach(InternalIds::drop);
            return;
        }
        if (!node.isObject()) {
            return;
        }
        ObjectNode object = (ObjectNode) node;
        List<String> ids = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : object.properties()) {
            if (ID_FIELDS.contains(field.getKey()) && field.getValue().isTextual()) {
                ids.add(field.getKey());
            } else if (!FREE_FORM.contains(field.getKey())) {
                drop(field.getValue());
            }
        }
        object.remove(ids);
    }
}
