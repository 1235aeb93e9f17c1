"""One package per vendor dialect: how Itential, ProcessMaker, Journey Manager and ConductorOne see
Baton. Each holds its error shape (`errors`: a `baton.edge.dialects.Dialect`), its views of Baton's
types (`views`) and its part of sign-in (`signin`), where it has them. A vendor package knows the
domain types it shows and the edge's dialect type, never storage, a repository or another vendor;
the services speak Baton's verbs and the handlers (`baton_functions`) put the two together."""
