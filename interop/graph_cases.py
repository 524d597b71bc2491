"""Interop cases: the unmodified Microsoft Graph SDK for Python (msgraph-sdk, pinned in
requirements.txt) against Atrium's Graph /v1.0 (issue 13).

The SDK gets an app-only token through azure-identity's ClientSecretCredential against Atrium
(the quickstart app has admin consent for User.ReadWrite.All, Group.ReadWrite.All, …) and talks
to {BASE}/v1.0 exactly as it talks to graph.microsoft.com (entra-compat.md §3). Each case takes
the suite's Ctx and raises AssertionError on a mismatch.
"""

from __future__ import annotations

import asyncio
import ssl
import uuid
from typing import Any, Awaitable, Callable

import httpx
from azure.identity.aio import ClientSecretCredential
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.group import Group
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.user import User
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph_core import GraphClientFactory

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def _check(cond: Any, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


def _run(c: Any, body: Callable[[GraphServiceClient, str], Awaitable[None]]) -> None:
    """Builds a Graph client for the quickstart app against Atrium and runs `body` with it."""

    async def main() -> None:
        base = c.authority.rsplit("/", 1)[0]  # https://127.0.0.1:443
        host = base.split("://", 1)[1].split(":", 1)[0]
        cred = ClientSecretCredential(c.tenant_id, c.client_id, c.secret, authority=base,
                                      disable_instance_discovery=True, connection_verify=c.ca)
        auth = AzureIdentityAuthenticationProvider(cred, scopes=[GRAPH_SCOPE], allowed_hosts=[host])
        http = GraphClientFactory.create_with_default_middleware(client=httpx.AsyncClient(verify=ssl.create_default_context(cafile=c.ca), timeout=30))
        adapter = GraphRequestAdapter(auth, http)
        adapter.base_url = f"{base}/v1.0"
        try:
            await body(GraphServiceClient(request_adapter=adapter), c.qs["username"].split("@", 1)[1])
        finally:
            await cred.close()
            await http.aclose()

    asyncio.run(main())


async def _expect_odata_error(call: Awaitable[Any], status: int, code: str, what: str) -> ODataError:
    try:
        await call
    except ODataError as e:
        got = (e.response_status_code, e.error.code if e.error else None)
        _check(got == (status, code), f"{what}: ODataError {got}, expected ({status}, {code!r}): {e.error.message if e.error else e}")
        return e
    raise AssertionError(f"{what}: no ODataError, expected {status} {code}")


def _new_user(alias: str, domain: str, name: str) -> User:
    return User(account_enabled=True, display_name=name, mail_nickname=alias, user_principal_name=f"{alias}@{domain}",
                password_profile=PasswordProfile(password="Us3r-" + uuid.uuid4().hex[:10] + "!", force_change_password_next_sign_in=False))


def case_graph_sdk_users(c: Any) -> None:
    """users: create, get by id and userPrincipalName, $filter/$select/$top paging via nextLink, PATCH, DELETE, 404."""

    async def body(graph: GraphServiceClient, domain: str) -> None:
        tag = uuid.uuid4().hex[:6]
        created = []
        for i in range(5):
            u = await graph.users.post(_new_user(f"sdk{tag}{i}", domain, f"Sdk {tag} {i}"))
            _check(u and u.id and u.user_principal_name == f"sdk{tag}{i}@{domain}", f"POST /users returned {u!r}")
            _check(u.password_profile is None, "the password profile came back")
            created.append(u)
        got = await graph.users.by_user_id(created[0].id).get()
        _check(got.display_name == f"Sdk {tag} 0", f"GET /users/{{id}}: {got.display_name!r}")
        got = await graph.users.by_user_id(created[1].user_principal_name).get()
        _check(got.id == created[1].id, f"GET /users/{{upn}} returned {got.id}, expected {created[1].id}")
        # $filter + $select + $top=2: three pages, followed through @odata.nextLink.
        q = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(filter=f"startswith(displayName,'Sdk {tag}')", select=["id", "displayName"], top=2)
        page = await graph.users.get(RequestConfiguration(query_parameters=q))
        names, pages = [], 0
        while page is not None:
            pages += 1
            names += [u.display_name for u in page.value]
            _check(all(u.user_principal_name is None for u in page.value), "$select was not applied")
            page = await graph.users.with_url(page.odata_next_link).get() if page.odata_next_link else None
        _check(pages == 3 and names == [f"Sdk {tag} {i}" for i in range(5)], f"paging gave {pages} pages: {names}")
        await graph.users.by_user_id(created[0].id).patch(User(display_name=f"Sdk {tag} renamed", job_title=None))
        got = await graph.users.by_user_id(created[0].id).get()
        _check(got.display_name == f"Sdk {tag} renamed", f"after PATCH: {got.display_name!r}")
        for u in created:
            await graph.users.by_user_id(u.id).delete()
        await _expect_odata_error(graph.users.by_user_id(created[0].id).get(), 404, "Request_ResourceNotFound", "GET a deleted user")
        # A duplicate userPrincipalName is Graph's 400.
        dup = await graph.users.post(_new_user(f"dup{tag}", domain, "Dup"))
        await _expect_odata_error(graph.users.post(_new_user(f"dup{tag}", domain, "Dup again")), 400, "Request_BadRequest", "duplicate UPN")
        await graph.users.by_user_id(dup.id).delete()

    _run(c, body)


def case_graph_sdk_groups_members(c: Any) -> None:
    """groups: create, members $ref add/remove, list members (typed users), transitiveMembers, PATCH, DELETE."""

    async def body(graph: GraphServiceClient, domain: str) -> None:
        tag = uuid.uuid4().hex[:6]
        users = [await graph.users.post(_new_user(f"mem{tag}{i}", domain, f"Member {tag} {i}")) for i in range(2)]
        g = await graph.groups.post(Group(display_name=f"Team {tag}", mail_enabled=False, mail_nickname=f"team{tag}", security_enabled=True, group_types=[]))
        _check(g and g.id and g.security_enabled is True, f"POST /groups returned {g!r}")
        for u in users:
            await graph.groups.by_group_id(g.id).members.ref.post(ReferenceCreate(odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{u.id}"))
        await _expect_odata_error(
            graph.groups.by_group_id(g.id).members.ref.post(ReferenceCreate(odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{users[0].id}")),
            400, "Request_BadRequest", "adding a member twice")
        members = await graph.groups.by_group_id(g.id).members.get()
        _check(sorted(m.id for m in members.value) == sorted(u.id for u in users), f"members: {[m.id for m in members.value]}")
        _check(all(isinstance(m, User) for m in members.value), f"members are not typed as users: {[type(m).__name__ for m in members.value]}")
        await graph.groups.by_group_id(g.id).members.by_directory_object_id(users[0].id).ref.delete()
        rest = await graph.groups.by_group_id(g.id).transitive_members.get()
        _check([m.id for m in rest.value] == [users[1].id], f"after removing one: {[m.id for m in rest.value]}")
        groups = await graph.users.by_user_id(users[1].id).member_of.get()
        _check([x.id for x in groups.value] == [g.id], f"memberOf: {[x.id for x in groups.value]}")
        await graph.groups.by_group_id(g.id).patch(Group(description="patched"))
        _check((await graph.groups.by_group_id(g.id).get()).description == "patched", "group PATCH not applied")
        await graph.groups.by_group_id(g.id).delete()
        await _expect_odata_error(graph.groups.by_group_id(g.id).get(), 404, "Request_ResourceNotFound", "GET a deleted group")
        for u in users:
            await graph.users.by_user_id(u.id).delete()

    _run(c, body)


def case_graph_sdk_count_search(c: Any) -> None:
    """$count and $search need ConsistencyLevel: eventual (else 400 Request_UnsupportedQuery); unsupported options are refused."""

    async def body(graph: GraphServiceClient, domain: str) -> None:
        tag = uuid.uuid4().hex[:6]
        u = await graph.users.post(_new_user(f"srch{tag}", domain, f"Searchable Zq{tag}"))
        q = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(search=f'"displayName:zq{tag}"', count=True)
        await _expect_odata_error(graph.users.get(RequestConfiguration(query_parameters=q)), 400, "Request_UnsupportedQuery", "$search without ConsistencyLevel")
        cfg = RequestConfiguration(query_parameters=q)
        cfg.headers.add("ConsistencyLevel", "eventual")
        page = await graph.users.get(cfg)
        _check(page.odata_count == 1 and [x.id for x in page.value] == [u.id], f"$search/$count: count={page.odata_count} ids={[x.id for x in page.value]}")
        bad = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(expand=["manager"])
        await _expect_odata_error(graph.users.get(RequestConfiguration(query_parameters=bad)), 400, "Request_UnsupportedQuery", "$expand")
        await graph.users.by_user_id(u.id).delete()

    _run(c, body)


CASES: list[tuple[str, Callable[[Any], None]]] = [
    ("graph_sdk_users", case_graph_sdk_users),
    ("graph_sdk_groups_members", case_graph_sdk_groups_members),
    ("graph_sdk_count_search", case_graph_sdk_count_search),
]
