// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "mxsurvey",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mxsurvey", targets: ["mxsurvey"]),
        .executable(name: "mxfarm", targets: ["mxfarm"]),
        .executable(name: "maillog-gen", targets: ["maillog-gen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // C access: system libraries with small shims for the macros Swift cannot call.
        .systemLibrary(
            name: "CAres", path: "Sources/CAres", pkgConfig: "libcares",
            providers: [.apt(["libc-ares-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),

        // Pipeline stages. Each target lists exactly what its sources import; only
        // SurveyStore (and the tests' fixtures) may use GRDB.
        .target(name: "SurveyCore"),
        .target(
            name: "SurveyDNS",
            dependencies: [
                "CAres", "SurveyCore", .product(name: "DequeModule", package: "swift-collections"),
            ]),
        .target(
            name: "SurveyStore",
            dependencies: [
                "SurveyCore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]),
        .target(name: "SurveyTLS", dependencies: ["COpenSSL", "SurveyCore"]),
        .target(
            name: "SurveyProbe",
            dependencies: [
                "SurveyCore", "SurveyTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .target(
            name: "SurveyScan",
            dependencies: [
                "SurveyCore", "SurveyDNS", "SurveyPolicy", "SurveyProbe", "SurveyStore", "SurveyTLS",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "SurveyPolicy",
            dependencies: [
                "SurveyCore", "SurveyDNS", "SurveyProbe", "SurveyTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        .target(name: "SurveyReport", dependencies: ["SurveyCore", "SurveyStore"]),
        // Mail server logs → connections (`mxsurvey logs`); parsing only, no SQL.
        .target(name: "SurveyPassive", dependencies: ["COpenSSL", "CZlib", "SurveyCore"]),
        // Message headers: mbox/Maildir/message readers, the Received trace parser, the
        // last external hop.
        .target(name: "SurveyHeaders", dependencies: ["COpenSSL", "SurveyCore", "SurveyStore"]),
        .target(
            name: "FarmKit",
            dependencies: [
                "SurveyCore", "SurveyTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]),
        // Starts and stops the real peers (unbound, Postfix) and the farm for tests; builds
        // fixture stores (with a little SQL of its own, GRDB).
        .target(
            name: "TestSupport",
            dependencies: [
                "SurveyCore", "SurveyStore", "SurveyTLS", .product(name: "GRDB", package: "GRDB.swift"),
            ]),

        // Thin command-line front ends.
        .executableTarget(
            name: "mxsurvey",
            dependencies: [
                "SurveyCore", "SurveyDNS", "SurveyPolicy", "SurveyStore", "SurveyProbe", "SurveyScan",
                "SurveyReport", "SurveyTLS", "SurveyPassive", "SurveyHeaders",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "mxfarm",
            dependencies: [
                "FarmKit", "SurveyCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .executableTarget(
            name: "maillog-gen",
            dependencies: ["FarmKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .testTarget(name: "SurveyCoreTests", dependencies: ["SurveyCore"]),
        .testTarget(
            name: "SurveyPassiveTests",
            dependencies: [
                "FarmKit", "SurveyCore", "SurveyHeaders", "SurveyPassive", "SurveyStore", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(
            name: "SurveyDNSTests", dependencies: ["CAres", "SurveyCore", "SurveyDNS", "TestSupport"]),
        .testTarget(
            name: "SurveyStoreTests",
            dependencies: ["SurveyCore", "SurveyStore", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "SurveyTLSTests", dependencies: ["SurveyCore", "SurveyTLS", "TestSupport"]),
        .testTarget(
            name: "SurveyProbeTests",
            dependencies: [
                "SurveyCore", "SurveyProbe", "SurveyTLS", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]),
        .testTarget(
            name: "SurveyPolicyTests",
            dependencies: [
                "SurveyCore", "SurveyPolicy", "SurveyTLS", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .testTarget(
            name: "SurveyScanTests",
            dependencies: [
                "FarmKit", "SurveyCore", "SurveyDNS", "SurveyPolicy", "SurveyProbe", "SurveyReport",
                "SurveyScan", "SurveyStore",
                "SurveyTLS", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .testTarget(
            name: "SurveyHeadersTests", dependencies: ["SurveyCore", "SurveyHeaders", "SurveyStore"]),
        .testTarget(
            name: "SurveyReportTests",
            dependencies: [
                "SurveyCore", "SurveyReport", "SurveyStore", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(
            name: "FarmKitTests",
            dependencies: [
                "FarmKit", "SurveyCore", "SurveyPolicy", "SurveyTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        // Runs the built executables as a user would.
        .testTarget(
            name: "mxsurveyTests",
            dependencies: ["SurveyTLS", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
    ],
    swiftLanguageModes: [.v6]
)
