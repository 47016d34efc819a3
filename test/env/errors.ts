export class TestBedError extends Error {
  override name = 'TestBedError';
}

/** A provisioned artefact is missing: say which and how to get it. */
export class NotProvisionedError extends TestBedError {
  constructor(what: string, path: string) {
    super(
      `${what} is not provisioned (expected ${path}). Run \`npm run testbed:provision\` ` +
        `(or \`bash test/env/provision/all.sh\`), which builds it into the cache.`,
    );
  }
}
