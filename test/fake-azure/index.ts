// The fake Azure's public face, and only that: tests import from here. startFakeAzure and the
// FakeAzure API are in core/fake.ts; each service's behaviour, with its sources, in arm/, sign-in/
// and github/; what each behaviour rests on: docs/fake-azure.md.
export * from './core/fake.ts'
